DROP TABLE identity.session_handoffs;

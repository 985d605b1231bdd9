DROP TABLE payment_account;

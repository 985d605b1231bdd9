DROP TABLE result_verifications;

DROP TABLE tracking_failures;

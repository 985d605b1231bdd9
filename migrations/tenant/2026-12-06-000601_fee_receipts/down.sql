DROP TABLE fee_receipts;
DROP FUNCTION fee_receipts_no_edit();
DROP TABLE fee_receipt_counters;

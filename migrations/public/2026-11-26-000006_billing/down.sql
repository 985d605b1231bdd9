DROP TABLE period_closes, credit_notes, billed_usage, invoice_lines, invoices, invoice_counters, vat_rates;
DROP FUNCTION invoices_immutable();

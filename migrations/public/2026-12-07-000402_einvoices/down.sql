DROP TABLE einvoices;
DROP TABLE einvoice_counters;

DROP TABLE einvoice_buyers;

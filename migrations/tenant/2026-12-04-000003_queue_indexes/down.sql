DROP INDEX dossiers_deadline;

DROP TABLE moved_dossiers;

UPDATE invitations SET id = 'inv' || substr(id, 4) WHERE id LIKE 'ivt\_%' ESCAPE '\';

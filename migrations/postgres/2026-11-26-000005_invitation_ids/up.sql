-- Invitations shared the `inv_` prefix with invoices; they take `ivt_` (ids are opaque, but one
-- prefix per kind keeps logs, support and 404s unambiguous).
UPDATE invitations SET id = 'ivt' || substr(id, 4) WHERE id LIKE 'inv\_%' ESCAPE '\';

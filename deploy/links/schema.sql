-- The shared link store of one or more municipalities: which library card each My Number
-- card stands for, as kiosks in `ocsp` and `crl` mode need it. PostgreSQL 13 or later.
--
-- Nothing here identifies a person to anyone without the municipality's link key: a
-- credential is HMAC-SHA256(link key, issuer || certificate serial), never the serial.
--
-- Devices log in with a TLS client certificate whose common name is their role (see
-- deploy/links/README.md for pg_hba.conf and the roles). Each device role is listed in
-- link_devices with its municipality: it reads only that municipality's links (row level
-- security), and writes only through link_card(), only if may_link (the counters).

-- Nobody but the owner creates anything in public (PostgreSQL 13 and 14 let everyone):
-- the functions below run as the owner and must not find a device's look-alike.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Which store this is: a kiosk keeps it with its snapshot, and starts again from nothing
-- when it changes (the database restored from a backup, its change numbers lower again).
CREATE TABLE link_store (
    id text NOT NULL DEFAULT pg_catalog.md5(pg_catalog.random()::text || pg_catalog.clock_timestamp()::text)
);
INSERT INTO link_store DEFAULT VALUES;

-- The writers' lock: one row only the owner can touch (an advisory lock anyone could take).
CREATE TABLE link_writer (one boolean PRIMARY KEY);
INSERT INTO link_writer VALUES (true);

CREATE TABLE link_devices (
    role name PRIMARY KEY,
    municipality text NOT NULL,
    may_link boolean NOT NULL DEFAULT false
);

-- One number for every change, so a kiosk asks only for what changed since it last asked.
-- Writers take one lock (link_card locks the link_writer row), so changes commit in the
-- order of their numbers and a kiosk never skips one.
CREATE SEQUENCE link_changes;

CREATE TABLE links (
    municipality text NOT NULL,
    credential bytea NOT NULL CHECK (octet_length(credential) = 32),
    -- NULL: unlinked (kept, so that every kiosk learns of it).
    patron text CHECK (patron IS NULL OR patron ~ '^[!-~]{1,64}$'),
    change bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (municipality, credential)
);
CREATE INDEX links_by_change ON links (municipality, change);
CREATE INDEX links_by_patron ON links (municipality, patron);

-- The municipalities of the device logged in (devices cannot read link_devices itself).
CREATE FUNCTION device_municipalities() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT d.municipality FROM public.link_devices d WHERE d.role = session_user
$$;

ALTER TABLE links ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_municipality ON links FOR SELECT
    USING (municipality IN (SELECT device_municipalities()));

-- Links credential c to patron p in municipality m, unlinking the patron's other
-- credentials (the counter's "this is the patron's card now", after a re-issue); with
-- p NULL, unlinks c. Returns whether c was linked before.
CREATE FUNCTION link_card(m text, c bytea, p text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET lock_timeout = '3s' AS $$
DECLARE
    was boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.link_devices d WHERE d.role = session_user AND d.municipality = m AND d.may_link) THEN
        RAISE EXCEPTION 'this device may not link cards of municipality %', m USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM 1 FROM public.link_writer FOR UPDATE;
    SELECT l.patron IS NOT NULL INTO was FROM public.links l WHERE l.municipality = m AND l.credential = c;
    IF p IS NOT NULL THEN
        UPDATE public.links SET patron = NULL, change = pg_catalog.nextval('public.link_changes'::regclass), changed_at = pg_catalog.now()
            WHERE municipality = m AND patron = p AND credential <> c;
    END IF;
    INSERT INTO public.links (municipality, credential, patron, change)
        VALUES (m, c, p, pg_catalog.nextval('public.link_changes'::regclass))
        ON CONFLICT (municipality, credential)
        DO UPDATE SET patron = EXCLUDED.patron, change = EXCLUDED.change, changed_at = pg_catalog.now();
    RETURN coalesce(was, false);
END $$;

CREATE ROLE kiosk_devices NOLOGIN;
REVOKE ALL ON links, link_devices, link_writer, link_store FROM PUBLIC;
REVOKE ALL ON FUNCTION link_card(text, bytea, text), device_municipalities() FROM PUBLIC;
GRANT SELECT ON links, link_store TO kiosk_devices;
GRANT EXECUTE ON FUNCTION link_card(text, bytea, text), device_municipalities() TO kiosk_devices;

-- sql/parts/00_guard.sql: the install script runs only in CREATE EXTENSION,
-- and only in a UTF8 database.
\echo Use "CREATE EXTENSION spamhints" to load this file. \quit

-- Mail logs, AS names and reports carry text in any script (a HELO in
-- Cyrillic, an AS name in Chinese): in a database of another encoding one
-- such line would make a whole mail log fail to load.
DO $$
DECLARE
    enc text := pg_catalog.getdatabaseencoding();
BEGIN
    IF enc <> 'UTF8' THEN
        RAISE EXCEPTION 'spamhints needs a UTF8 database: database "%" has encoding %',
                        pg_catalog.current_database(), enc
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Create a UTF8 database and install the extension there: createdb -E UTF8 -T template0 --locale=C.UTF-8 NAME, or CREATE DATABASE name ENCODING ''UTF8'' TEMPLATE template0 LOCALE ''C.UTF-8''.';
    END IF;
END
$$;

-- sql/parts/00_guard.sql: the install script runs only in CREATE EXTENSION.
\echo Use "CREATE EXTENSION spamhints" to load this file. \quit

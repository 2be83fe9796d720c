-- ledgerlink pipeline state: one DuckDB file per pipeline, owned by one process at a time.
CREATE SEQUENCE IF NOT EXISTS ll_seq;
CREATE SEQUENCE IF NOT EXISTS ll_run_id;
CREATE SEQUENCE IF NOT EXISTS ll_dead_letter_id;

CREATE TABLE IF NOT EXISTS ll_meta (key VARCHAR PRIMARY KEY, value VARCHAR);

-- Source STATE, committed in the same transaction as the records it covers.
CREATE TABLE IF NOT EXISTS source_state (
    stream VARCHAR PRIMARY KEY, state JSON NOT NULL, updated_at TIMESTAMP NOT NULL);

-- Which staged rows each normaliser has turned into canonical objects (by staging sequence).
CREATE TABLE IF NOT EXISTS normalise_cursor (stream VARCHAR PRIMARY KEY, seq BIGINT NOT NULL);

-- Planned writes. status: pending | done | dead. key is the idempotency key.
CREATE TABLE IF NOT EXISTS outbox (
    key VARCHAR PRIMARY KEY,
    destination VARCHAR NOT NULL,
    stream VARCHAR NOT NULL,
    data JSON NOT NULL,
    payload_hash VARCHAR NOT NULL,
    depends_on VARCHAR[] NOT NULL,
    natural_key VARCHAR,
    status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL,
    planned_run BIGINT,
    updated_at TIMESTAMP NOT NULL);

-- A posted document whose source or mapping changed afterwards: never rewritten silently.
CREATE TABLE IF NOT EXISTS revisions (
    key VARCHAR NOT NULL, payload_hash VARCHAR NOT NULL, data JSON NOT NULL, run_id BIGINT,
    status VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, PRIMARY KEY (key, payload_hash));

-- What each key became at the destination.
CREATE TABLE IF NOT EXISTS results (
    key VARCHAR PRIMARY KEY, destination VARCHAR NOT NULL, stream VARCHAR NOT NULL,
    destination_id VARCHAR, version VARCHAR, created BOOLEAN NOT NULL, run_id BIGINT,
    written_at TIMESTAMP NOT NULL);

-- Audit: every planned document (and line) back to the staged source rows it came from.
CREATE TABLE IF NOT EXISTS audit (
    outbox_key VARCHAR NOT NULL, line INTEGER, source_stream VARCHAR NOT NULL, source_key VARCHAR NOT NULL);

CREATE TABLE IF NOT EXISTS dead_letters (
    id BIGINT PRIMARY KEY,
    run_id BIGINT,
    stage VARCHAR NOT NULL,          -- read | normalise | plan | write
    stream VARCHAR,
    record_key VARCHAR,
    error_type VARCHAR NOT NULL,
    error_kind VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    hint VARCHAR,
    detail JSON,
    record JSON,
    status VARCHAR NOT NULL,         -- open | retried | discarded | resolved
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL);

CREATE TABLE IF NOT EXISTS runs (
    id BIGINT PRIMARY KEY, pipeline VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP, status VARCHAR NOT NULL, dry_run BOOLEAN NOT NULL,
    counts JSON, timings JSON, error VARCHAR);

-- Destination reference objects by name (CustomerRef, ItemRef, AccountRef…).
CREATE TABLE IF NOT EXISTS refs (
    destination VARCHAR NOT NULL, kind VARCHAR NOT NULL, name VARCHAR NOT NULL, ref_id VARCHAR NOT NULL,
    version VARCHAR, updated_at TIMESTAMP NOT NULL, PRIMARY KEY (destination, kind, name));
-- A plugin's note on an entry (what it is waiting for, when it was last seen): added after the table, so
-- state files created before it gain the column when they are opened.
ALTER TABLE refs ADD COLUMN IF NOT EXISTS note VARCHAR;

-- Rotated credentials (refresh tokens), encrypted with the pipeline's key.
CREATE TABLE IF NOT EXISTS credentials (
    name VARCHAR PRIMARY KEY, value_encrypted VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL);

-- Review before posting (pipeline option `review`): a planned document waiting for a person's decision, and
-- the decision. status: awaiting | approved | rejected, about the payload version `payload_hash`; a re-plan
-- that changes the payload brings an approved or rejected document back to awaiting.
CREATE TABLE IF NOT EXISTS review (
    key VARCHAR PRIMARY KEY, destination VARCHAR NOT NULL, stream VARCHAR NOT NULL, payload_hash VARCHAR NOT NULL,
    status VARCHAR NOT NULL, held_at TIMESTAMP NOT NULL, held_run BIGINT,
    decided_by VARCHAR, decided_at TIMESTAMP, reason VARCHAR);
-- Every review decision, in order: who approved or rejected which version of which document, and why.
CREATE TABLE IF NOT EXISTS review_decisions (
    key VARCHAR NOT NULL, payload_hash VARCHAR NOT NULL, decision VARCHAR NOT NULL, decided_by VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL, reason VARCHAR);

-- The fleet's own tables, beside DBOS's system tables (schema "dbos") in the same Postgres database.
CREATE SCHEMA IF NOT EXISTS ledgerlink_fleet;
SET search_path TO ledgerlink_fleet;

CREATE TABLE IF NOT EXISTS tenants (
    name        text PRIMARY KEY,
    workspace   text NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now()
);

-- one row per pipeline file of a tenant's workspace; a file that does not load keeps its reason here
CREATE TABLE IF NOT EXISTS pipelines (
    tenant      text NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
    pipeline    text NOT NULL,
    file        text NOT NULL,
    every_s     double precision,
    problem     text,
    PRIMARY KEY (tenant, pipeline)
);

-- one row per sync attempt a worker made
CREATE TABLE IF NOT EXISTS runs (
    id          bigserial PRIMARY KEY,
    tenant      text NOT NULL,
    pipeline    text NOT NULL,
    workflow_id text,
    worker      text NOT NULL,
    reason      text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text NOT NULL DEFAULT 'running',
    posted      integer,
    dead_letters integer,
    error       text
);
-- where a sync's time went: the pipeline's own work, and the fleet's around it (lease, loading, bookkeeping)
ALTER TABLE runs ADD COLUMN IF NOT EXISTS step_started_at timestamptz;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS sync_s double precision;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS overhead_s double precision;
-- a sync that ended 'waiting' (an Amazon report not ready): what for, when to look again, and the delayed sync
-- (DBOS workflow id) queued for that time
ALTER TABLE runs ADD COLUMN IF NOT EXISTS waiting_for text;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS wake_at timestamptz;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS waiter text;
CREATE INDEX IF NOT EXISTS runs_by_pipeline ON runs (tenant, pipeline, started_at DESC);

-- the one writer of each pipeline's state: held while `expires_at` is ahead, renewed by its holder
CREATE TABLE IF NOT EXISTS leases (
    tenant      text NOT NULL,
    pipeline    text NOT NULL,
    holder      text NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant, pipeline)
);
-- every time a lease was taken: who, from when, and until when it was valid (released, or last renewal + ttl)
CREATE TABLE IF NOT EXISTS lease_log (
    id          bigserial PRIMARY KEY,
    tenant      text NOT NULL,
    pipeline    text NOT NULL,
    holder      text NOT NULL,
    acquired_at timestamptz NOT NULL,
    valid_until timestamptz NOT NULL,
    released    boolean NOT NULL DEFAULT false
);

-- workers that are up: a worker whose heartbeat is older than the lease time is gone
CREATE TABLE IF NOT EXISTS workers (
    id          text PRIMARY KEY,
    host        text NOT NULL,
    pid         integer NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);

-- requests sent per remote account bucket (sliding window), and each account's places for requests at once
CREATE TABLE IF NOT EXISTS account_calls (
    key         text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS account_calls_by_key ON account_calls (key, at);
CREATE TABLE IF NOT EXISTS account_slots (
    account     text NOT NULL,
    slot        integer NOT NULL,
    holder      text,
    expires_at  timestamptz,
    PRIMARY KEY (account, slot)
);

-- pipelines whose destination confirms writes in a vendor's own session (the QuickBooks Web Connector): how many
-- writes wait for it and when it last called, kept by the session endpoint and by the workers' syncs
CREATE TABLE IF NOT EXISTS vendor_sessions (
    tenant       text NOT NULL,
    pipeline     text NOT NULL,
    waiting      integer,
    last_contact timestamptz,
    last_event   text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, pipeline)
);

-- what a vendor endpoint records outside a session, when the pipeline's state file is not open (the Web
-- Connector's refused logins and lockouts, per user name)
CREATE TABLE IF NOT EXISTS vendor_notes (
    tenant      text NOT NULL,
    pipeline    text NOT NULL,
    kind        text NOT NULL,
    name        text NOT NULL,
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, pipeline, kind, name)
);

-- the notification ids each pipeline's receiver accepted (Amazon delivers at least once): the first console to
-- insert a row queues the sync, every other console answers the redelivery "duplicate"; rows older than the
-- receiver's dedupe time are pruned now and then. Workers never read it.
CREATE TABLE IF NOT EXISTS notifications_seen (
    tenant          text NOT NULL,
    pipeline        text NOT NULL,
    notification_id text NOT NULL,
    seen_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, pipeline, notification_id)
);
CREATE INDEX IF NOT EXISTS notifications_seen_by_time ON notifications_seen (seen_at);

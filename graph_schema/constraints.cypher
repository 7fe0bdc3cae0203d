// skiptrace graph schema, version 1: uniqueness constraints on every node key
// (and on the store's metadata key) and the indexes the queries use. Applied by
// `skiptrace schema apply` and on the first load into a Neo4j database. Every
// statement is idempotent.
CREATE CONSTRAINT borrower_id IF NOT EXISTS FOR (n:Borrower) REQUIRE n.borrower_id IS UNIQUE;
CREATE CONSTRAINT phone_e164 IF NOT EXISTS FOR (n:Phone) REQUIRE n.e164 IS UNIQUE;
CREATE CONSTRAINT device_id IF NOT EXISTS FOR (n:Device) REQUIRE n.device_id IS UNIQUE;
CREATE CONSTRAINT address_key IF NOT EXISTS FOR (n:Address) REQUIRE n.address_key IS UNIQUE;
CREATE CONSTRAINT employer_key IF NOT EXISTS FOR (n:Employer) REQUIRE n.employer_key IS UNIQUE;
CREATE CONSTRAINT ring_id IF NOT EXISTS FOR (n:Ring) REQUIRE n.ring_id IS UNIQUE;
CREATE CONSTRAINT attempt_id IF NOT EXISTS FOR (n:ContactAttempt) REQUIRE n.attempt_id IS UNIQUE;
CREATE CONSTRAINT payment_key IF NOT EXISTS FOR (n:Payment) REQUIRE n.payment_key IS UNIQUE;
// one SkiptraceMeta node per key (schema version, pseudonym key, last published load):
// without it two first loads at once could each MERGE their own pseudonym key
CREATE CONSTRAINT skiptrace_meta_key IF NOT EXISTS FOR (n:SkiptraceMeta) REQUIRE n.key IS UNIQUE;
CREATE INDEX attempt_borrower IF NOT EXISTS FOR (n:ContactAttempt) ON (n.borrower_id);
CREATE INDEX payment_borrower IF NOT EXISTS FOR (n:Payment) ON (n.borrower_id);
CREATE INDEX borrower_status IF NOT EXISTS FOR (n:Borrower) ON (n.status);
CREATE INDEX phone_status IF NOT EXISTS FOR (n:Phone) ON (n.status);

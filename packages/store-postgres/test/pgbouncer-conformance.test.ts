import { postgresConformance } from "./conformance-suite.js";

// The same suite (A35) through PgBouncer in transaction pooling mode, where
// consecutive statements of one client may run on different server connections.
postgresConformance("pgbouncer");

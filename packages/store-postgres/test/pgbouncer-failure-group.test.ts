import { postgresFailureGroup } from "./failure-group-suite.js";

// The fault proxy sits between the store and PgBouncer: refused, black-holed,
// cut and delayed connections to the pooler fail typed and in time, and the
// store recovers by itself (A18, A30).
postgresFailureGroup("pgbouncer");

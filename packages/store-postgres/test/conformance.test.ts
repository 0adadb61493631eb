import { postgresConformance } from "./conformance-suite.js";

// Checklist A35 (one shared suite), A18/A20/A21/A23 through its groups, and
// A32 (parameterised SQL: the hostile payload and user id cases).
postgresConformance("direct");

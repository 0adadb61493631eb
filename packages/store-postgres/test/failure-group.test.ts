import { postgresFailureGroup } from "./failure-group-suite.js";

postgresFailureGroup("direct");

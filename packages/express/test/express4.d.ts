// `express4` is an npm alias of express@4 for running the same tests on
// Express 4; its API is the part of @types/express these tests use.
declare module "express4" {
  import express = require("express");
  export = express;
}

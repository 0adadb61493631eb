// The shared adapter scenarios over real sockets, on Express 5 and Express 4,
// on the memory, SQLite, Redis and PostgreSQL stores.
import { describeAdapterScenarios } from "@sessionkit/adapter-scenarios";
import express from "express";
import express4 from "express4";
import { startScenarioApp } from "./scenario-app.js";

describeAdapterScenarios("express 5", (context) =>
  startScenarioApp(express, context, { nativeAsync: true }),
);

describeAdapterScenarios("express 4", (context) =>
  startScenarioApp(express4, context, { nativeAsync: false }),
);

import { createMemoryStore } from "../../src/store/memory.js";
import { testStoreDriver } from "./conformance.js";

testStoreDriver("memory", async () => createMemoryStore(), { tiers: ["in-process"] });

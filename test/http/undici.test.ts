import { adapterSuite } from "./adapter-suite.js";
import { undiciClient } from "./clients.js";

adapterSuite(undiciClient);

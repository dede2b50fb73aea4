import { adapterSuite } from "./adapter-suite.js";
import { fetchClient } from "./clients.js";

adapterSuite(fetchClient);

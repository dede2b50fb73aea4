import { adapterSuite } from "./adapter-suite.js";
import { axiosClient } from "./clients.js";

adapterSuite(axiosClient);

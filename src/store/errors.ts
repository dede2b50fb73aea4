import { TokenSmithError } from "../errors.js";

/**
 * The lease errors, one factory each, so every driver says the same thing (SPEC §6: a lock
 * that cannot be had in time is `lock_timeout`, never mistaken for an authorization failure).
 */

/** A waiter reached its deadline while another update held the lease (the one factory, in errors.ts). */
export { lockTimeout } from "../errors.js";

/** The lease ran out or was taken over while its holder still worked under it. */
export const leaseLost = (why: string): TokenSmithError => new TokenSmithError("lock_timeout", `the update lease was lost: ${why}`);

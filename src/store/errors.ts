import { TokenSmithError } from "../errors.js";

/**
 * The lease errors, one factory each, so every driver says the same thing (SPEC §6: a lock
 * that cannot be had in time is `lock_timeout`, never mistaken for an authorization failure).
 */

/** A waiter reached its deadline while another update held the lease. */
export const lockTimeout = (holder?: string): TokenSmithError =>
  new TokenSmithError("lock_timeout", `timed out waiting for another update of the same token state${holder ? ` (held by ${holder})` : ""}`, {
    hint: "another caller holds the refresh lock; it is released when its token request ends",
  });

/** The lease ran out or was taken over while its holder still worked under it. */
export const leaseLost = (why: string): TokenSmithError => new TokenSmithError("lock_timeout", `the update lease was lost: ${why}`);

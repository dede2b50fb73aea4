import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_TICKETS, Sessions, TICKET_TTL_MS } from "../../src/gateway/auth.js";
import { ManualClock } from "../support/clock.js";

describe("dashboard sign-in tickets", () => {
  it("open a session within 5 minutes, and never after", () => {
    const clock = new ManualClock();
    const sessions = new Sessions(() => clock.now());
    const late = sessions.issueTicket();
    const onTime = sessions.issueTicket();
    clock.advance(TICKET_TTL_MS - 1);
    assert.ok(sessions.redeem(onTime), "a ticket opened just inside 5 minutes works");
    clock.advance(1);
    assert.equal(sessions.redeem(late), undefined, "a ticket 5 minutes old is dead");
  });

  it("are bounded: beyond the cap the oldest unspent one is dropped", () => {
    const sessions = new Sessions();
    const tickets = Array.from({ length: MAX_TICKETS + 1 }, () => sessions.issueTicket());
    assert.equal(sessions.redeem(tickets[0]), undefined, "the oldest made room");
    assert.ok(sessions.redeem(tickets[1]));
    assert.ok(sessions.redeem(tickets[MAX_TICKETS]));
  });

});

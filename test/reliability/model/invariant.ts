/** A broken invariant: the scenario fails, and fast-check shrinks it. */
export class InvariantViolation extends Error {}

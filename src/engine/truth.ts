/**
 * Three-valued truth (SPEC §2, §5). Strings rather than booleans + undefined so that a value is always
 * explicit in traces and JSON, and `unknown` can never be mistaken for `false` by a truthiness check.
 */
export type Truth = 'true' | 'false' | 'unknown';

/**
 * Kleene conjunction: false if any operand is false, true if all are true, else unknown (SPEC §5).
 * Operands are computed on demand and the first false stops the computation.
 * @param items - the operands, or what to compute them from
 * @param valueOf - computes an operand's value (identity when the items are values)
 */
export function kleeneAll<T = Truth>(items: Iterable<T>, valueOf: (item: T) => Truth = (x) => x as unknown as Truth): Truth {
  let sawUnknown = false;
  for (const item of items) {
    const v = valueOf(item);
    if (v === 'false') {
      return 'false';
    }
    if (v === 'unknown') {
      sawUnknown = true;
    }
  }
  return sawUnknown ? 'unknown' : 'true';
}

/**
 * Kleene disjunction: true if any operand is true, false if all are false, else unknown (SPEC §5).
 * Operands are computed on demand and the first true stops the computation.
 * @param items - the operands, or what to compute them from
 * @param valueOf - computes an operand's value (identity when the items are values)
 */
export function kleeneAny<T = Truth>(items: Iterable<T>, valueOf: (item: T) => Truth = (x) => x as unknown as Truth): Truth {
  let sawUnknown = false;
  for (const item of items) {
    const v = valueOf(item);
    if (v === 'true') {
      return 'true';
    }
    if (v === 'unknown') {
      sawUnknown = true;
    }
  }
  return sawUnknown ? 'unknown' : 'false';
}

/** Kleene negation: unknown stays unknown. */
export function kleeneNot(value: Truth): Truth {
  switch (value) {
    case 'true':
      return 'false';
    case 'false':
      return 'true';
    case 'unknown':
      return 'unknown';
  }
}

/**
 * Closes the world over a value: true only when definitely true (SPEC §3, "No red flag documented
 * means no rf.* fact is true"). An unknown red flag is not a documented one.
 */
export function documented(value: Truth): Truth {
  return value === 'true' ? 'true' : 'false';
}

import { expect } from '@jest/globals';
import { SecurityError, type SecurityErrorCode } from '../errors/security-error.js';

/** Runs fn, asserts it throws a SecurityError with `code`, and returns the error for further checks. */
export function catchSecurityError(fn: () => unknown, code: SecurityErrorCode): SecurityError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(SecurityError);
  expect((thrown as SecurityError).code).toBe(code);
  return thrown as SecurityError;
}

export async function rejectsWithSecurityError(promise: Promise<unknown>, code: SecurityErrorCode): Promise<SecurityError> {
  let thrown: unknown;
  try {
    await promise;
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(SecurityError);
  expect((thrown as SecurityError).code).toBe(code);
  return thrown as SecurityError;
}

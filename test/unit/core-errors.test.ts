import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode, toWeirError, WeirError } from '../../src/core/errors.ts'

describe('WeirError', () => {
  it('captures no stack for a record fault (the dead letter says where the record came from)', () => {
    const limit = Error.stackTraceLimit
    for (const code of [ErrorCode.VALIDATION_FAILED, ErrorCode.DESERIALIZE_FAILED, ErrorCode.LATE_RECORD]) {
      const err = new WeirError(code, 'invalid: speed: expected a number', { details: [{ field: 'speed' }] })
      assert.equal(err.stack, 'WeirError: invalid: speed: expected a number')
      assert.equal(err.code, code)
      assert.equal(err.retriable, false)
      assert.deepEqual(err.details, [{ field: 'speed' }])
      assert.equal(Error.stackTraceLimit, limit, 'the global limit is restored')
    }
  })

  it('keeps the stack for errors in the code or its services', () => {
    const err = new WeirError(ErrorCode.SINK_UNAVAILABLE, 'redis down')
    assert.match(err.stack ?? '', /\n\s+at .*core-errors\.test\.ts/)
    assert.equal(err.retriable, true)
    const wrapped = toWeirError(new TypeError('x is undefined'))
    assert.equal(wrapped.code, ErrorCode.OPERATOR_FAILED)
    assert.match(wrapped.stack ?? '', /\n\s+at /)
    assert.ok(wrapped.cause instanceof TypeError)
  })
})

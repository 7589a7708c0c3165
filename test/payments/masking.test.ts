import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupingFor, maskedPanDisplay } from '../../src/payments/masking.ts';

test('masked PAN display groups by brand and shows only the last four', () => {
  assert.equal(maskedPanDisplay('visa', 16, '1111'), '•••• •••• •••• 1111');
  assert.equal(maskedPanDisplay('amex', 15, '0005'), '•••• •••••• •0005');
  assert.equal(maskedPanDisplay('diners', 14, '1667'), '•••• •••••• 1667');
  assert.equal(maskedPanDisplay('visa', 13, '2222'), '• •••• •••• 2222');
  assert.equal(maskedPanDisplay('visa', 19, '0006'), '••• •••• •••• •••• 0006');
});

test('other lengths fall back to groups of four counted from the right', () => {
  assert.deepEqual(groupingFor('visa', 19), [3, 4, 4, 4, 4]);
  assert.deepEqual(groupingFor('visa', 13), [1, 4, 4, 4]);
  assert.deepEqual(groupingFor('amex', 15), [4, 6, 5]);
  assert.deepEqual(groupingFor(null, 16), [4, 4, 4, 4]);
  assert.equal(maskedPanDisplay('maestro', 12, '4321'), '•••• •••• 4321');
});

test('rejects anything that is not a last four', () => {
  assert.throws(() => maskedPanDisplay('visa', 16, '411111'));
  assert.throws(() => maskedPanDisplay('visa', 16, 'abcd'));
  assert.throws(() => maskedPanDisplay('visa', 25, '1111'));
});

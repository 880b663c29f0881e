import t from 'tap'
import { OwnWrites } from '../../../src/kube/own-writes.ts'

t.test('a read at the version a write replaced is behind; the written one or a later one is not', async t => {
  const w = new OwnWrites()
  t.notOk(w.behind('ns/a', '10'), 'nothing written yet')
  w.note('ns/a', '10', '12')
  t.ok(w.behind('ns/a', '10'), 'the cache still holds the replaced version')
  t.ok(w.behind('ns/a', '10'), 'and says so until it catches up')
  t.notOk(w.behind('ns/b', '10'), 'per object')
  t.notOk(w.behind('ns/a', '12'), 'caught up')
  t.notOk(w.behind('ns/a', '10'), 'forgotten once caught up: resourceVersions are opaque, no order is assumed')
})

t.test('a later write elsewhere is not mistaken for being behind', async t => {
  const w = new OwnWrites()
  w.note('ns/a', '10', '12')
  t.notOk(w.behind('ns/a', '15'), 'someone else wrote after us: the cache is current')
})

t.test('an unknown version forgets; forget() drops the entry', async t => {
  const w = new OwnWrites()
  w.note('ns/a', '10', undefined)
  t.notOk(w.behind('ns/a', '10'), 'a write whose result is unknown (the object was gone) is not remembered')
  w.note('ns/a', '10', '12')
  w.forget('ns/a')
  t.notOk(w.behind('ns/a', '10'))
})

t.test('the object as written is kept while a read is behind it, and only if given', async t => {
  const w = new OwnWrites<{ rv: string }>()
  w.note('ns/a', '10', '12', { rv: '12' })
  t.same(w.written('ns/a'), { rv: '12' }, 'kept for a decision while the cache holds 10')
  t.notOk(w.behind('ns/a', '12'), 'caught up')
  t.equal(w.written('ns/a'), undefined, 'dropped with the entry')
  w.note('ns/a', '12', '14')
  t.ok(w.behind('ns/a', '12'))
  t.equal(w.written('ns/a'), undefined, 'a write noted without its object: the caller reads fresh')
})

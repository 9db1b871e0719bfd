"""Speech segments from per-window speech probabilities, as they stream in.

``SpeechSegmenter`` is silero-vad's ``get_speech_timestamps_from_probs`` (silero_vad/utils_vad.py,
version 6) turned inside out: that function walks a finished list of probabilities and pads the
segments at the end; this class takes one probability at a time and hands out each segment as soon
as nothing that can still arrive would change it. Fed the same probabilities, the two give the same
segments, sample for sample (tests/python/system/test_ml_nodes.py runs silero's function beside
it). The rules, all in samples at the model's rate (window = 512 samples at 16 kHz, 256 at 8 kHz):

- a window whose probability is >= ``threshold`` starts a segment at the window's first sample;
- inside a segment, windows below ``neg_threshold`` are silence; once a silence has lasted
  ``min_silence`` samples (measured window start to window start) the segment ends where the silence
  began, and is kept only if longer than ``min_speech``;
- a segment longer than ``max_speech`` is cut at the longest silence of more than 98 ms inside it
  (the rest continues as a new segment), or else right there;
- at end of input an open segment ends at the last sample, if longer than ``min_speech``;
- each kept segment is then widened by ``pad`` on both sides, except that two segments less than
  ``2 * pad`` apart share the gap half and half.

The padding is why a segment is held back: its end is final only once the next kept segment is
known or can no longer start within ``2 * pad`` of it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["SpeechSegmenter", "Segment", "window_samples"]

# silero's min_silence_at_max_speech: a silence must be longer than this to be a cut point.
_CUT_SILENCE_MS = 98


def window_samples(sample_rate: int) -> int:
    """The model's window: 512 samples at 16 kHz, 256 at 8 kHz."""
    return 512 if sample_rate == 16000 else 256


class Segment(NamedTuple):
    """A finished segment: ``start``/``end`` padded (what to cut from the audio), ``speech_start`` /
    ``speech_end`` before padding (the windows the probabilities came from). Samples."""

    start: int
    end: int
    speech_start: int
    speech_end: int


class SpeechSegmenter:
    """Streaming form of silero's speech-timestamp rules (module docstring). Not thread-safe."""

    def __init__(
        self,
        sample_rate: int,
        threshold: float = 0.5,
        neg_threshold: float | None = None,
        min_speech_duration_ms: float = 250,
        min_silence_duration_ms: float = 100,
        speech_pad_ms: float = 30,
        max_speech_duration_s: float | None = None,
    ) -> None:
        sr = sample_rate
        self.window = window_samples(sr)
        self.threshold = threshold
        # silero's default, floored so that a threshold near 0 still leaves a silence level.
        self.neg_threshold = max(threshold - 0.15, 0.01) if neg_threshold is None else neg_threshold
        # The same float expressions as silero's, so the comparisons fall the same way.
        self.min_speech = sr * min_speech_duration_ms / 1000
        self.pad = sr * speech_pad_ms / 1000
        max_s = math.inf if max_speech_duration_s is None else max_speech_duration_s
        self.max_speech = sr * max_s - self.window - 2 * self.pad
        self.min_silence = sr * min_silence_duration_ms / 1000
        self.cut_silence = sr * _CUT_SILENCE_MS / 1000

        self.index = 0  # windows seen
        self.triggered = False
        self.start = 0  # the open segment's first sample (meaningful while triggered)
        self.temp_end = 0  # where the current silence inside the open segment began, 0 if none
        self.prev_end = 0
        self.next_start = 0
        self.possible_ends: list[tuple[int, int]] = []  # (silence start, length) inside the open segment
        # The last kept segment, whose padded end waits for the next kept segment's start:
        # [padded start, speech start, speech end].
        self.held: list[int] | None = None

    # -- what the caller must keep ------------------------------------------------------------
    def earliest_needed(self) -> int:
        """The first sample a segment still to be emitted can include (for trimming buffers)."""
        if self.held is not None:
            return self.held[0]
        # The open segment, or else one starting at a future window, widened by at most pad.
        first = self.start if self.triggered else self.index * self.window
        return max(0, int(first - self.pad))

    # -- input --------------------------------------------------------------------------------
    def push(self, prob: float) -> list[Segment]:
        """The probability of the next window; returns the segments that became final."""
        out: list[Segment] = []
        cur = self.window * self.index
        self.index += 1
        self._step(prob, cur, out)
        held = self.held
        if held is not None:
            # The next kept segment starts at the open one's start or at a future window, at the
            # earliest; from 2 * pad away the held segment simply gets its padding.
            first = self.start if self.triggered else self.index * self.window
            if first - held[2] >= 2 * self.pad:
                out.append(Segment(held[0], int(held[2] + self.pad), held[1], held[2]))
                self.held = None
        return out

    def finish(self, audio_length: int, last_prob: float | None = None) -> list[Segment]:
        """End of input after ``audio_length`` samples; returns the remaining segments.
        ``last_prob`` is the probability of a last, incomplete window (silero pads it with zeros),
        which cannot end a held segment early as ``push`` does: the end of input clips padding."""
        out: list[Segment] = []
        if last_prob is not None:
            cur = self.window * self.index
            self.index += 1
            self._step(last_prob, cur, out)
        if self.triggered and audio_length - self.start > self.min_speech:
            self._keep(self.start, audio_length, out)
        if self.held is not None:
            held = self.held
            out.append(Segment(held[0], int(min(audio_length, held[2] + self.pad)), held[1], held[2]))
        self.held = None
        self.triggered = False
        return out

    # -- silero's loop body, one window -----------------------------------------------------------
    def _step(self, prob: float, cur: int, out: list[Segment]) -> None:
        if prob >= self.threshold and self.temp_end:
            silence = cur - self.temp_end
            if silence > self.cut_silence:
                self.possible_ends.append((self.temp_end, silence))
            self.temp_end = 0
            if self.next_start < self.prev_end:
                self.next_start = cur

        if prob >= self.threshold and not self.triggered:
            self.triggered = True
            self.start = cur
            return

        if self.triggered and cur - self.start > self.max_speech:
            if self.possible_ends:
                end, length = max(self.possible_ends, key=lambda e: e[1])
                self._keep(self.start, end, out)
                next_start = end + length
                if next_start < end + cur:
                    self.start = next_start  # the rest goes on as a new segment
                else:
                    self.triggered = False
                self.prev_end = self.next_start = self.temp_end = 0
                self.possible_ends = []
            else:
                # silero's fallback (its prev_end is always 0 here): cut at this window.
                self._keep(self.start, cur, out)
                self.prev_end = self.next_start = self.temp_end = 0
                self.triggered = False
                self.possible_ends = []
                return

        if prob < self.neg_threshold and self.triggered:
            if not self.temp_end:
                self.temp_end = cur
            if cur - self.temp_end < self.min_silence:
                return
            if self.temp_end - self.start > self.min_speech:
                self._keep(self.start, self.temp_end, out)
            self.prev_end = self.next_start = self.temp_end = 0
            self.triggered = False
            self.possible_ends = []

    def _keep(self, start: int, end: int, out: list[Segment]) -> None:
        """[start, end) is a kept segment: it fixes the held one's end (half the gap when they are
        less than 2 * pad apart, else pad) and its own padded start, and is held in turn."""
        held = self.held
        if held is None:
            padded_start = int(max(0, start - self.pad))
        else:
            gap = start - held[2]
            if gap < 2 * self.pad:
                out.append(Segment(held[0], held[2] + int(gap // 2), held[1], held[2]))
                padded_start = int(max(0, start - gap // 2))
            else:
                out.append(Segment(held[0], int(held[2] + self.pad), held[1], held[2]))
                padded_start = int(max(0, start - self.pad))
        self.held = [padded_start, start, end]

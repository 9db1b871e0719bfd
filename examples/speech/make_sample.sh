#!/usr/bin/env bash
# How examples/speech/sample.wav and sample.json were made (needs espeak-ng and sox, which nothing
# else in the project needs: `apt-get install -y espeak-ng sox`). Rerunning it rewrites both files;
# espeak-ng 1.51 and sox 14.4.2 (Debian 12) gave the committed ones.
#
# Three English sentences spoken by espeak-ng (voice en-us, variant f5, 150 words per minute: of
# the voices tried, the one pocketsphinx recognises best), each resampled to 48 kHz and trimmed of
# its leading and trailing silence, then laid out as
#   0.3 s silence, sentence 1, 0.8 s silence, sentence 2, 0.8 s silence, sentence 3, 0.3 s silence
# in one mono 16-bit WAV. Because the silences are inserted here, the speech intervals are exact:
# sample.json records them in samples and seconds, with the sentences.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rate=48000
sentences=(
  "The quick brown fox jumps over the lazy dog."
  "Please call me back in the morning."
  "Open the window and let the fresh air in."
)
lead=0.3 gap=0.8 tail=0.3

# -D: no dither, so the output is the same on every run.
sox_out=(-D -b 16 -e signed-integer -c 1 -r "$rate")
silence() { sox -n "${sox_out[@]}" "$work/$1.wav" trim 0 "$2"; }

parts=()
silence lead "$lead"; parts+=("$work/lead.wav")
for i in "${!sentences[@]}"; do
  espeak-ng -v en-us+f5 -s 150 -w "$work/raw$i.wav" "${sentences[$i]}"
  # rate -v: sox's very-high-quality resampler; silence 1 0.01 -60d at both ends (via reverse)
  # drops what lies before the first and after the last sound above -60 dBFS.
  sox "$work/raw$i.wav" "${sox_out[@]}" "$work/s$i.wav" rate -v "$rate" \
    silence 1 0.01 -60d reverse silence 1 0.01 -60d reverse
  parts+=("$work/s$i.wav")
  if (( i < ${#sentences[@]} - 1 )); then
    silence "gap$i" "$gap"; parts+=("$work/gap$i.wav")
  fi
done
silence tail "$tail"; parts+=("$work/tail.wav")
sox "${parts[@]}" "${sox_out[@]}" sample.wav

# The speech intervals from the parts' lengths in samples.
{
  echo '{'
  echo "  \"sample_rate\": $rate,"
  echo "  \"frames\": $(soxi -s sample.wav),"
  echo '  "note": "exact speech intervals: make_sample.sh inserted the silences between them",'
  echo '  "speech": ['
  pos=$(soxi -s "$work/lead.wav")
  for i in "${!sentences[@]}"; do
    n=$(soxi -s "$work/s$i.wav")
    end=$((pos + n))
    sep=','; (( i == ${#sentences[@]} - 1 )) && sep=''
    printf '    {"start_frame": %d, "end_frame": %d, "start": %s, "end": %s, "text": "%s"}%s\n' \
      "$pos" "$end" "$(awk -v p="$pos" -v r="$rate" 'BEGIN{printf "%.4f", p/r}')" \
      "$(awk -v p="$end" -v r="$rate" 'BEGIN{printf "%.4f", p/r}')" "${sentences[$i]}" "$sep"
    pos=$end
    (( i < ${#sentences[@]} - 1 )) && pos=$((pos + $(soxi -s "$work/gap$i.wav")))
  done
  echo '  ]'
  echo '}'
} > sample.json
echo "sample.wav: $(soxi -D sample.wav) s, $(stat -c %s sample.wav) bytes"

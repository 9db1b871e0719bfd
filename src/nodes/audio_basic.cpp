// Audio nodes: AudioFormat, AudioGain, AudioNormalize. Not written yet.
#include "remotemedia/registry.h"

namespace remotemedia {

void register_audio_basic_nodes(Registry& registry) { (void)registry; }

}  // namespace remotemedia

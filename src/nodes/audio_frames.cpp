// Audio nodes: AudioChunker. Not written yet.
#include "remotemedia/registry.h"

namespace remotemedia {

void register_audio_frame_nodes(Registry& registry) { (void)registry; }

}  // namespace remotemedia

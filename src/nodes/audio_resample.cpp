// Audio nodes: AudioResample (libsoxr). Not written yet.
#include "remotemedia/registry.h"

namespace remotemedia {

void register_audio_resample_nodes(Registry& registry) { (void)registry; }

}  // namespace remotemedia

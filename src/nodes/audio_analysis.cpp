// Audio nodes: AudioLevel, EnergyVAD. Not written yet.
#include "remotemedia/registry.h"

namespace remotemedia {

void register_audio_analysis_nodes(Registry& registry) { (void)registry; }

}  // namespace remotemedia

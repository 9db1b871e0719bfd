// Audio nodes: AudioFileSource, AudioFileSink (libsndfile). Not written yet.
#include "remotemedia/registry.h"

namespace remotemedia {

void register_audio_file_nodes(Registry& registry) { (void)registry; }

}  // namespace remotemedia

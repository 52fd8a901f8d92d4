// http_get for a build without libcurl (-DKVPLAN_NETWORK=OFF, the GPU machine's build, whose
// carried packages hold no libcurl): folders and the Hugging Face cache still work.
#include "core/error.h"
#include "hub/http_get.h"

namespace kvplan::hub {

HttpAnswer http_get(const HttpRequest& request) {
  throw Error("cannot fetch " + request.url + ": this kvplan was built without libcurl (-DKVPLAN_NETWORK=OFF); use a "
              "checkpoint folder or the Hugging Face cache",
              ExitCode::cannot_run);
}

}  // namespace kvplan::hub

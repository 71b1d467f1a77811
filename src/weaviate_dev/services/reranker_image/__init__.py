"""Build the reranker image: our reranker with exactly the model you configured baked in.

Everything that builds the image lives in this package, in the order a build uses it:

- `model`: identify the configured model (a local directory by the digest of its files, a
  hub model by the commit its revision names); `digests` remembers file digests by stat,
  `hub` asks the Hugging Face Hub (through huggingface_hub) and `remembered` keeps the
  commits it named, for when it cannot be reached.
- `staging`: put the model's files on disk (a hub model downloaded into the Hugging Face
  cache, torch weights exported to ONNX), outside the image build; `leftovers` removes what
  killed runs left in the toolkit's cache.
- `context`: write the build context (reranker/ and the model's files) as a tar file on disk;
  `shared_code` loads the reranker's own standard-library modules the toolkit shares.
- `labels`: the labels that record which model, engine, platform and source an image was
  built from.
- `plan`: compare the wanted labels with the existing image and decide whether to build;
  `build`: build it (on the model's stage, kept between builds); `index_relay`: serve the
  package indexes to the build without their credentials.
- `serving`: find which model a running reranker serves.

The rest of the toolkit uses only the functions below: `check_model` early (seconds, before
anything slow), then `plan(...).apply()` or `ensure`; `setup` uses `prebuild_dependencies`,
and `restart`, `status` and `dev --detach` use `describe_serving` and `serving_info`.
"""

from __future__ import annotations

from weaviate_dev.core.errors import DevError
from weaviate_dev.core.progress import say
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.docker import local_images
from weaviate_dev.services.reranker_image import leftovers
from weaviate_dev.services.reranker_image import model as _model
from weaviate_dev.services.reranker_image.build import prebuild_dependencies
from weaviate_dev.services.reranker_image.labels import ImageSpec
from weaviate_dev.services.reranker_image.model import ModelSource
from weaviate_dev.services.reranker_image.plan import ImagePlan, ensure, plan
from weaviate_dev.services.reranker_image.serving import describe as describe_serving
from weaviate_dev.services.reranker_image.serving import engine_info as serving_info

__all__ = ["ImagePlan", "ImageSpec", "ModelSource", "check_model", "describe_serving",
           "ensure", "plan", "prebuild_dependencies", "serving_info"]

# The models check_model has identified in this process, by their settings: `dev` checks
# before its setup steps, and the `restart` it runs then needs no second check.
_identified: dict[tuple, ModelSource] = {}


def check_model(settings: Settings) -> ModelSource | None:
    """Identify the model that a build of the configured image would need, and print it.

    This takes seconds and runs before anything slow, so that a model that cannot be found
    stops the command at once with one line. The answer is kept for the rest of the process.
    What killed runs left in the toolkit's cache is removed first (`leftovers`).
    Returns None when the user named an image (WEAVIATE_DEV_RERANKER_IMAGE) that is present:
    it is used as it is and needs no model. Without a Docker engine (not installed yet), such
    an image counts as missing.
    """
    leftovers.sweep(settings)
    key = _model.identity(settings)
    if key in _identified:
        return _identified[key]
    if settings.reranker_image_given:
        try:
            if local_images.image_present(settings.reranker_image):
                return None
        except DevError:  # no engine yet
            pass
    found = _identified[key] = _model.resolve(settings)
    say(f"reranker model: {found.describe()}")
    return found

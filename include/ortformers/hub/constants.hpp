#pragma once
// Environment-driven settings, read exactly as huggingface_hub's constants.py reads them.
#include <filesystem>
#include <optional>
#include <string>

namespace ortformers::hub {

// $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.
std::filesystem::path hf_home();
// $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else hf_home()/hub.
std::filesystem::path hf_hub_cache();
// $HF_ENDPOINT without a trailing '/', else https://huggingface.co.
std::string hf_endpoint();
// $HF_TOKEN, else $HUGGING_FACE_HUB_TOKEN, else the content of $HF_TOKEN_PATH (default hf_home()/token).
std::optional<std::string> get_token();
// HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) set to 1/ON/YES/TRUE.
bool is_offline_mode();
// "models--org--name" (repo type + "s", then the id's parts, joined by "--").
std::string repo_folder_name(const std::string& repo_id, const std::string& repo_type = "model");

}  // namespace ortformers::hub

#include "engine_file.h"

#include "engine_error.h"

#include <cstdio>
#include <filesystem>
#include <system_error>

void engine_rename_into_place(const std::string & tmp_path, const std::string & path) {
    std::error_code ec;
    std::filesystem::rename(tmp_path, path, ec);
    if (ec) {
        std::remove(tmp_path.c_str());
        throw engine_error(ENGINE_ERR_IO, "could not write '" + path + "': " + ec.message());
    }
}

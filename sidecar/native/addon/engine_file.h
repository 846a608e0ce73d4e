// File helpers of the engine layer: writes go to a temporary file that is renamed into place, so a reader never sees
// half a file and a killed process leaves the previous version intact.
#pragma once

#include <string>

// Renames tmp_path to path; on failure removes tmp_path and throws engine_error IO_ERROR naming path.
void engine_rename_into_place(const std::string & tmp_path, const std::string & path);

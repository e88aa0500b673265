// `typegrad plot`: accuracy and training cost per epoch from --metrics files, drawn by gnuplot.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace typegrad::cli {

struct PlotOptions {
    std::vector<std::filesystem::path> metrics;  // files written by 'train --metrics' (JSON lines or CSV)
    std::filesystem::path output;                // .png or .svg
};

/// Reads every metrics file, writes a gnuplot script and its data to a temporary directory, runs
/// gnuplot into a temporary file beside the output and renames it onto the output. Throws
/// UsageError (an output that is not .png/.svg), RunError (a metrics file that cannot be read,
/// gnuplot missing or failing), OutputError (the output cannot be written).
int run_plot(const PlotOptions& o);

}  // namespace typegrad::cli

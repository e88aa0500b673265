// `typegrad plot`: accuracy and training cost per epoch from --metrics files, drawn by gnuplot.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "outputs.hpp"

namespace typegrad::cli {

struct PlotOptions {
    std::vector<std::filesystem::path> metrics;  // files written by 'train --metrics' (JSON lines or CSV)
    std::filesystem::path output;                // .png or .svg
    std::string option = "-o";                   // the output's option in messages: plot's -o, train's --plot
    std::vector<OutputFile::Input> inputs;       // the command's other files, which the output must not replace
};

/// The picture's OutputFile (outputs.hpp: links written through, devices refused, locked), after
/// checking its suffix; the metrics files and o.inputs are files it must not be. train calls it
/// before training (and lets it go), so that a --plot that cannot be written is refused before
/// the work. Throws UsageError (not .png/.svg), OutputError.
OutputFile plot_output(const PlotOptions& o);

/// Reads every metrics file (a regular file of at most 64 MiB; anything else is refused without
/// blocking), writes gnuplot's script and data to a private temporary directory, runs gnuplot
/// there, and writes its picture onto the output through plot_output. No file name and no text
/// from a metrics file is ever gnuplot code (see plot.cpp). Throws UsageError (an output that is
/// not .png/.svg), RunError (a metrics file that cannot be read, gnuplot missing or failing),
/// OutputError (the output cannot be written).
int run_plot(const PlotOptions& o);

}  // namespace typegrad::cli

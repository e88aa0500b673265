// The text form of a network on the command line (--net SPEC): the input width, then each layer
// as WIDTH or WIDTH:ACTIVATION, joined by '-':
//
//   spec       := "lenet" | input ( "-" layer )+
//   input      := WIDTH
//   layer      := WIDTH [ ":" activation ]            a dense layer of WIDTH units and its activation
//   activation := "sigmoid" | "tanh" | "relu" | "softmax"   (a bare WIDTH means sigmoid)
//
// so "784-30-10" is the article's network and "784-100:tanh-10:softmax" a tanh hidden layer with
// a softmax output. Specs are compared in canonical form: ":sigmoid" dropped, widths without
// leading zeros ("784-30:sigmoid-010" is "784-30-10").
#pragma once

#include <string>

namespace typegrad::cli {

/// The canonical form of a network spec, or "" with `error` set to one line saying what is wrong
/// when `text` is not one.
[[nodiscard]] std::string canonical_network(const std::string& text, std::string& error);

}  // namespace typegrad::cli

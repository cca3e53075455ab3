package io.arangopipe.server.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Secrets given at start: from a file named by an option, or else from an environment variable, never a flag value. */
final class Secrets {
  private Secrets() {}

  /**
   * The secret in {@code file} (stripped) when the option names one, else the environment variable's value
   * (null when unset).
   *
   * @param option the option that names the file, for the message
   * @throws IllegalArgumentException the file cannot be read
   */
  static String read(Path file, String envVar, String option) {
    if (file == null) {
      return System.getenv(envVar);
    }
    try {
      return Files.readString(file).strip();
    } catch (IOException e) {
      throw new IllegalArgumentException(option + " " + file + " cannot be read: " + e.getMessage());
    }
  }
}

/**
 * What of a validator's job request the miner keeps in its store. The rows live for the retention
 * (two days by default) and an inline volume is a base64 zip of up to ~50 MB: a validator could
 * fill the database with them. The request minus the inline bytes says everything an operator
 * looks for; the executor got the whole message.
 */

/** The message as stored: every inline volume's `contents` replaced by its length. */
export function withoutInlineVolumes(message: object): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...(message as Record<string, unknown>) };
  if (copy.volume && typeof copy.volume === 'object') copy.volume = strippedVolume(copy.volume as Record<string, unknown>);
  return copy;
}

function strippedVolume(volume: Record<string, unknown>): Record<string, unknown> {
  if (volume.volume_type === 'inline' && typeof volume.contents === 'string') {
    const { contents, ...rest } = volume;
    return { ...rest, contents: '', contents_length: (contents as string).length };
  }
  if (volume.volume_type === 'multi_volume' && Array.isArray(volume.volumes)) {
    return {
      ...volume,
      volumes: volume.volumes.map((part: unknown) =>
        part && typeof part === 'object' ? strippedVolume(part as Record<string, unknown>) : part,
      ),
    };
  }
  return volume;
}
